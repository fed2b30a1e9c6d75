/**
 * Provenance that survives cleared outputs: `%%aura` attaches `{"aura": {run_id, trace_id, model, question,
 * started, status}}` to its output's metadata; this plugin copies the latest such value into the CELL's
 * metadata (the kernel cannot write cell metadata itself), keeps it current as the display is updated, and
 * leaves it in place when the outputs are cleared.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICellModel, ICodeCellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { JSONExt, JSONObject } from '@lumino/coreutils';

export const KEY = 'aura';

function isCode(cell: ICellModel): cell is ICodeCellModel {
  return cell.type === 'code';
}

/** The `aura` value of the cell's latest output that has one, or null. */
export function provenanceOf(cell: ICodeCellModel): JSONObject | null {
  for (let i = cell.outputs.length - 1; i >= 0; i--) {
    const value = cell.outputs.get(i).metadata[KEY];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return value as JSONObject;
    }
  }
  return null;
}

function stamp(cell: ICodeCellModel): void {
  const found = provenanceOf(cell);
  if (found && !JSONExt.deepEqual(cell.getMetadata(KEY) ?? null, found)) {
    cell.setMetadata(KEY, found);
  }
}

const watched = new WeakSet<ICellModel>();

function watch(cell: ICellModel): void {
  if (!isCode(cell) || watched.has(cell)) {
    return;
  }
  watched.add(cell);
  cell.outputs.changed.connect(() => stamp(cell));
  stamp(cell);
}

function follow(panel: NotebookPanel): void {
  void panel.context.ready.then(() => {
    const model = panel.content.model;
    if (!model) {
      return;
    }
    for (let i = 0; i < model.cells.length; i++) {
      watch(model.cells.get(i));
    }
    model.cells.changed.connect((_, change) => change.newValues.forEach(watch));
  });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-aura:provenance',
  description: "Copies an aura run's provenance from its output metadata into the cell's metadata.",
  autoStart: true,
  requires: [INotebookTracker],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker) => {
    tracker.forEach(follow);
    tracker.widgetAdded.connect((_, panel) => follow(panel));
  }
};

export default plugin;
