/** The JupyterLab (and Notebook 7) plugins of the extension; the record's renderer is its mime extension. */

import outputScroll from './outputscroll';
import provenance from './provenance';

export default [provenance, outputScroll];
