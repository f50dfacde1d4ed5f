/* global document, window, MutationObserver */
// The course site's own script. typedoc.json names it as `customJs`, so TypeDoc
// copies it to assets/custom.js and loads it on every page. Two small fixes:
//
// 1. Mermaid diagrams, offline. TypeDoc renders a ```mermaid block as
//    highlighted code: <pre><code class="mermaid">, one <span> per line, a <br>
//    between lines. This turns each into a diagram with the copy of
//    mermaid.min.js that tools/site/copy-assets.ts puts beside this file.
//    Nothing is fetched from the network, so the site works from file:// too.
// 2. "On This Page" titles. TypeDoc drops inline code from heading titles in
//    that menu ("Passwords (`shared/src/passwords.ts`)" becomes "Passwords ()");
//    each entry gets its heading's full text back.
(function () {
  'use strict';

  // --- 2. the page menu: copy each heading's text into its menu entry --------
  document.querySelectorAll('.page-menu a[href^="#"] > span').forEach(function (span) {
    var id = decodeURIComponent(span.parentElement.getAttribute('href').slice(1));
    var heading = document.getElementById(id);
    if (heading && /^H[1-6]$/.test(heading.nodeName)) span.textContent = heading.textContent;
  });

  // --- 1. mermaid -------------------------------------------------------------
  var blocks = Array.prototype.slice.call(document.querySelectorAll('pre > code.mermaid'));
  if (blocks.length === 0) return; // most pages: do not load 3 MB of mermaid for nothing

  // The diagram source: the code's text, with each <br> back to a newline.
  function sourceOf(code) {
    var text = '';
    code.childNodes.forEach(function (node) {
      text += node.nodeName === 'BR' ? '\n' : node.textContent;
    });
    return text;
  }

  // Replace each <pre> (code plus TypeDoc's copy button) with a <div class="mermaid">.
  // A wide diagram is scaled to the column; a click shows it at full size.
  var nodes = blocks.map(function (code) {
    var div = document.createElement('div');
    div.className = 'mermaid';
    div.title = 'Click to switch between fitted and full size';
    div.textContent = sourceOf(code);
    div.addEventListener('click', function () {
      var svg = div.querySelector('svg');
      if (!svg) return;
      // mermaid writes the natural width as the svg's max-width.
      var full = div.classList.toggle('full-size');
      svg.style.width = full ? svg.style.maxWidth : '';
    });
    code.parentElement.replaceWith(div);
    return div;
  });

  function isDark() {
    var theme = document.documentElement.dataset.theme;
    if (theme === 'dark') return true;
    if (theme === 'light') return false;
    return window.matchMedia('(prefers-color-scheme: dark)').matches;
  }

  function render() {
    window.mermaid.initialize({
      startOnLoad: false,
      theme: isDark() ? 'dark' : 'default',
      securityLevel: 'strict',
    });
    window.mermaid.run({ nodes: nodes });
  }

  // TypeDoc keeps <body> hidden until its own script has laid the page out, and
  // mermaid measures text while drawing: wait until the page is visible.
  function whenVisible(callback) {
    if (document.body.style.display !== 'none') return callback();
    var observer = new MutationObserver(function () {
      if (document.body.style.display === 'none') return;
      observer.disconnect();
      callback();
    });
    observer.observe(document.body, { attributes: true, attributeFilter: ['style'] });
  }

  var script = document.createElement('script');
  // Beside this file, in assets/: a relative URL that works from file:// as from a server.
  script.src = document.currentScript.src.replace(/custom\.js(\?.*)?$/, 'mermaid.min.js');
  script.onload = function () {
    whenVisible(render);
  };
  document.head.appendChild(script);
})();
