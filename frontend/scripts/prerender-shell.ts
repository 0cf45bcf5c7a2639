/**
 * A Vite build plugin: renders the start-up shell (src/components/StartupShell.tsx) with
 * react-dom/server into index.html's #root, so a first visit paints the header and the
 * value statement before any JavaScript has loaded; on the start page the client hydrates
 * that markup (keeps its nodes) and shows it until the app is ready. The dev server keeps the empty #root: hot reload renders anyway.
 *
 * Also adds one line of script to the head that marks a deep link (any path but the start
 * page) so CSS hides the pre-rendered intro there: every path is served the same index.html.
 */
import { join } from "node:path";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { type Plugin, runnerImport } from "vite";

const SHELL_MODULE = "src/components/StartupShell.tsx";

export function prerenderShell(): Plugin {
  let root = "";
  let base = "/";
  return {
    name: "argus-prerender-shell",
    apply: "build",
    configResolved(config) {
      root = config.root;
      base = config.base;
    },
    async transformIndexHtml(html) {
      // Its own module runner with no config file: this plugin is part of the config.
      const { module } = await runnerImport<typeof import("../src/components/StartupShell.tsx")>(join(root, SHELL_MODULE), {
        configFile: false,
        root,
        logLevel: "error",
      });
      // renderToString, not renderToStaticMarkup: the client hydrates this markup on the start page (main.tsx).
      const markup = renderToString(createElement(module.StartupShell));
      const emptyRoot = '<div id="root"></div>';
      if (!html.includes(emptyRoot)) throw new Error(`index.html has no ${emptyRoot} to pre-render into`);
      const deepLinkMark = `<script>if(!["${base}","${base}index.html"].includes(location.pathname))document.documentElement.classList.add("deep-link")</script>`;
      return html.replace("  </head>", `    ${deepLinkMark}\n  </head>`).replace(emptyRoot, `<div id="root">${markup}</div>`);
    },
  };
}
