/* global document, window, console, MutationObserver, ResizeObserver */
// The course site's own script. typedoc.json names it as `customJs`, so TypeDoc
// copies it to assets/custom.js and loads it on every page. Two small fixes:
//
// 1. Mermaid diagrams, offline. TypeDoc renders a ```mermaid block as
//    highlighted code: <pre><code class="mermaid">, one <span> per line, a <br>
//    between lines. This turns each into a diagram with the copy of
//    mermaid.min.js that tools/site/copy-assets.ts puts beside this file.
//    Nothing is fetched from the network, so the site works from file:// too.
//    Each diagram keeps its natural size (never shrunk to fit the column),
//    scrolls sideways when wider than the column, and opens enlarged on a click.
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
  // A click on a drawn diagram opens it enlarged (see `enlarge` below).
  var nodes = blocks.map(function (code) {
    var div = document.createElement('div');
    div.className = 'mermaid';
    div.textContent = sourceOf(code);
    div.addEventListener('click', function () {
      enlarge(div);
    });
    code.parentElement.replaceWith(div);
    return div;
  });

  // Mermaid draws each diagram at width 100% with its natural width as max-width, so
  // a wide one is scaled down to the column: a 2,000 px sequence diagram in a 600 px
  // column has 4 px text. Instead each diagram keeps its natural size (mermaid's
  // fonts are 14-16 px), and one wider than the column scrolls inside its box.
  function naturalSize(div) {
    var svg = div.querySelector('svg');
    if (!svg) return;
    var box = svg.viewBox.baseVal;
    var width = box && box.width ? box.width : svg.getBoundingClientRect().width;
    var height = box && box.height ? box.height : svg.getBoundingClientRect().height;
    div.dataset.naturalWidth = String(width);
    div.dataset.naturalHeight = String(height);
    setSize(svg, width, height, 1);
    div.tabIndex = 0; // a box that scrolls must be reachable from the keyboard
    div.title = 'Click to enlarge';
    // Above the diagram, where a tall one's own scrollbar may be a screen away: a
    // button (the keyboard's way in) and, when it does not fit, how to see the rest.
    var hint = document.createElement('p');
    hint.className = 'diagram-hint';
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Enlarge diagram';
    button.addEventListener('click', function () {
      enlarge(div);
    });
    var note = document.createElement('span');
    hint.append(button, note);
    div.before(hint);
    new ResizeObserver(function () {
      note.textContent =
        div.scrollWidth > div.clientWidth + 1
          ? ' It is wider than the column: scroll it sideways, or enlarge it.'
          : '';
    }).observe(div);
  }

  function setSize(svg, width, height, scale) {
    svg.style.width = width * scale + 'px';
    svg.style.height = height * scale + 'px';
    svg.style.maxWidth = 'none';
  }

  // The enlarged view: a modal <dialog> filling the window (Escape, a click or the
  // button closes it). The diagram moves into it and back, rather than being copied,
  // so the ids its arrowheads refer to stay unique on the page. It is shown at the
  // window's width, between its natural size and twice that.
  var view;
  function enlarge(div) {
    var back = document.activeElement;
    var svg = div.querySelector('svg');
    if (!svg || (view && view.open)) return;
    if (!view) {
      view = document.createElement('dialog');
      view.className = 'diagram-view';
      view.setAttribute('aria-label', 'Enlarged diagram');
      var close = document.createElement('button');
      close.type = 'button';
      close.textContent = 'Close (Esc)';
      view.appendChild(close);
      view.addEventListener('click', function () {
        view.close();
      });
      document.body.appendChild(view);
    }
    var width = Number(div.dataset.naturalWidth);
    var height = Number(div.dataset.naturalHeight);
    var room = document.documentElement.clientWidth - 48; // the view's padding
    setSize(svg, width, height, Math.max(1, Math.min(2, room / width)));
    view.appendChild(svg);
    view.addEventListener(
      'close',
      function () {
        setSize(svg, width, height, 1);
        div.appendChild(svg);
        if (back && back.focus) back.focus();
      },
      { once: true },
    );
    view.showModal();
  }

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
    // `data-diagrams` on <html> tells tools/site/check-site.ts the diagrams are final.
    window.mermaid.run({ nodes: nodes }).then(
      function () {
        nodes.forEach(naturalSize);
        document.documentElement.dataset.diagrams = 'ready';
      },
      function (error) {
        document.documentElement.dataset.diagrams = 'failed';
        console.error('mermaid: ' + (error && error.message));
      },
    );
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
