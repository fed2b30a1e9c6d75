"""aura_nb: a Jupyter-native toolkit for agent-driven investigations."""
