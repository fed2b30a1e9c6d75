/**
 * The JupyterLab MIME renderer for aura_nb run records (application/vnd.aura.run+json): each output of the
 * type becomes a widget that draws the record with `renderRun` (render.ts).
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { isRunDocument, MIME_TYPE, upgradeDocument } from './document';
import { h } from './dom';
import { renderRun } from './render';

export { MIME_TYPE } from './document';
export { renderRun } from './render';

/** The widget JupyterLab creates for each output of our MIME type. */
export class RunRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('aura-Run');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = upgradeDocument(model.data[this._mimeType]);
    if (isRunDocument(data)) {
      renderRun(this.node, data);
    } else {
      const version = (data as { version?: unknown } | null)?.version;
      this.node.replaceChildren(h('div', 'aura-Run-error', `aura run record: unsupported document (version ${String(version)})`));
    }
    return Promise.resolve();
  }

  private _mimeType: string;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new RunRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'jupyterlab-aura:plugin',
  description: 'Renders aura_nb run records: plan graph, step waterfall, Scratchpad and metric plots.',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;
