// Bundles the live view (lib/live.js and the renderer pieces it imports) into one ES module for the kernel's
// anywidget, with the renderer's stylesheet beside it: aura_nb/notebook/static/run_view.{js,css}. rspack is the
// bundler the labextension is built with.
const fs = require('fs');
const path = require('path');
const { rspack } = require('@rspack/core');

const out = path.resolve(__dirname, '../../aura_nb/notebook/static');
const config = {
  mode: 'production',
  context: __dirname,
  entry: './lib/live.js',
  experiments: { outputModule: true },
  output: { path: out, filename: 'run_view.js', library: { type: 'module' } },
  optimization: { minimize: false },
  devtool: false
};

rspack(config, (error, stats) => {
  if (error || stats.hasErrors()) {
    console.error(error ?? stats.toString({ colors: false, all: false, errors: true }));
    process.exit(1);
  }
  fs.copyFileSync(path.join(__dirname, 'style', 'index.css'), path.join(out, 'run_view.css'));
});
