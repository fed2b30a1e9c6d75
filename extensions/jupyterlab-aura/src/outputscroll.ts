/**
 * Notebook 7 scrolls any output taller than about 100 lines into a fixed-height box on its own (the cell
 * gets `jp-mod-outputsScrolled` while its `scrolled` metadata stays unset). A run record keeps its height
 * then: this plugin marks such automatically scrolled cells `aura-mod-autoScrolled`, and the stylesheet
 * undoes the box only for a record in a marked cell. A cell the user scrolled (the output-scroll toggle,
 * which sets `scrolled`) keeps its box.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Cell } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

const SCROLLED = 'jp-mod-outputsScrolled';
export const AUTO_SCROLLED = 'aura-mod-autoScrolled';

function mark(cell: Cell): void {
  const automatic = cell.hasClass(SCROLLED) && cell.model.getMetadata('scrolled') === undefined;
  if (cell.hasClass(AUTO_SCROLLED) !== automatic) {
    cell.toggleClass(AUTO_SCROLLED, automatic);
  }
}

const watched = new WeakSet<Cell>();

function watch(cell: Cell): void {
  if (cell.model.type !== 'code' || watched.has(cell)) {
    return;
  }
  watched.add(cell);
  new MutationObserver(() => mark(cell)).observe(cell.node, { attributes: true, attributeFilter: ['class'] });
  cell.model.metadataChanged.connect(() => mark(cell));
  mark(cell);
}

function follow(panel: NotebookPanel): void {
  const notebook = panel.content;
  notebook.widgets.forEach(watch);
  notebook.model?.cells.changed.connect(() => notebook.widgets.forEach(watch));
  void panel.context.ready.then(() => notebook.widgets.forEach(watch));
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-aura:output-scroll',
  description: "Keeps a run record's height when Notebook 7 scrolls long outputs on its own, not when the user does.",
  autoStart: true,
  requires: [INotebookTracker],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker) => {
    tracker.forEach(follow);
    tracker.widgetAdded.connect((_, panel) => follow(panel));
  }
};

export default plugin;
