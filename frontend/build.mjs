// Bundles the uploader into ../static so that the portal itself needs no Node.js:
//   cd frontend && npm ci && npm run build
// The output is committed; rebuild after changing src/ or the locked versions.
import { build } from "esbuild";

const common = { bundle: true, minify: true, legalComments: "linked", logLevel: "info" };

await build({
  ...common,
  entryPoints: ["src/uploader.js"],
  outfile: "../static/js/uploader.bundle.js",
  format: "iife",
  target: ["es2020"],
});
await build({
  ...common,
  entryPoints: ["src/uploader.css"],
  outfile: "../static/css/uploader.css",
});
