/* global window, document, getComputedStyle, SVGGraphicsElement, Node */
// Runs inside a page of the built site, in the browser, for tools/site/check-site.ts,
// which evaluates this file and then calls `siteAudit()`. It measures what a reader
// sees and returns plain data; the checker decides what is a failure.
//
// (It is JavaScript, not TypeScript, because it runs in the page: tsx would wrap its
// functions in a helper that exists only in Node.)
window.siteAudit = function () {
  'use strict';
  var viewport = document.documentElement.clientWidth;
  var column = document.querySelector('.col-content');
  var columnBox = column ? column.getBoundingClientRect() : null;

  function describe(el) {
    var name = el.nodeName.toLowerCase();
    if (el.id) name += '#' + el.id;
    else if (el.classList.length) name += '.' + Array.prototype.join.call(el.classList, '.');
    var text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
    return name + (text ? ' "' + text + '"' : '');
  }

  function shown(el) {
    var style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') return false;
    var box = el.getBoundingClientRect();
    return box.width > 0 || box.height > 0;
  }

  // The box of what an element shows, inside its padding: TypeDoc's headings reach
  // 24 px into the column's margins with negative margins and matching padding.
  function contentBox(el) {
    var box = el.getBoundingClientRect();
    var style = getComputedStyle(el);
    var left = parseFloat(style.paddingLeft) + parseFloat(style.borderLeftWidth);
    var right = parseFloat(style.paddingRight) + parseFloat(style.borderRightWidth);
    return { left: box.left + left, right: box.right - right };
  }

  // An element may be wider than its room only inside a box that scrolls sideways
  // (a code block, a table, a diagram) and that box itself fits.
  function scrollsInsideItsBox(el) {
    for (var up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      var overflow = getComputedStyle(up).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return true;
      if (overflow === 'hidden' || overflow === 'clip') return up.scrollWidth <= up.clientWidth;
    }
    return false;
  }

  // Elements sticking out of the viewport, or out of the text column into the
  // navigation: only the outermost of each, so one wide table is one finding.
  var overflowing = [];
  var all = document.body.querySelectorAll('*');
  for (var i = 0; i < all.length; i++) {
    var el = all[i];
    if (el.closest('dialog:not([open])') || !shown(el)) continue;
    var box = contentBox(el);
    var inColumn = columnBox && column.contains(el) && el !== column;
    var left = inColumn ? columnBox.left : 0;
    var right = inColumn ? columnBox.right : viewport;
    if (box.left >= left - 1 && box.right <= right + 1) continue;
    if (getComputedStyle(el).position === 'fixed') continue;
    if (scrollsInsideItsBox(el)) continue;
    if (
      overflowing.some(function (outer) {
        return outer.contains(el);
      })
    )
      continue;
    overflowing.push(el);
  }

  // Code blocks must keep one source line on one screen line.
  var wrappingCode = Array.prototype.filter
    .call(document.querySelectorAll('pre > code'), function (code) {
      return getComputedStyle(code).whiteSpace !== 'pre';
    })
    .map(describe);

  // Diagrams: each drawn, none scaled down, and the smallest text as the reader sees it:
  // the computed font size times the scale of the SVG's transform to the screen.
  var diagrams = document.querySelectorAll('div.mermaid');
  var smallest = null;
  var shrunk = [];
  var failed = [];
  diagrams.forEach(function (div) {
    var svg = div.querySelector('svg');
    if (!svg || /Syntax error|Parse error/i.test(div.textContent)) {
      failed.push(describe(div));
      return;
    }
    if (svg.getBoundingClientRect().width < Number(div.dataset.naturalWidth) - 1)
      shrunk.push(describe(div));
    svg.querySelectorAll('*').forEach(function (node) {
      if (node.closest('style')) return;
      var text = Array.prototype.some.call(node.childNodes, function (child) {
        return child.nodeType === Node.TEXT_NODE && child.textContent.trim() !== '';
      });
      if (!text) return;
      var drawn = node instanceof SVGGraphicsElement ? node : node.closest('foreignObject');
      var matrix = drawn && drawn.getScreenCTM();
      if (!matrix) return;
      var px = parseFloat(getComputedStyle(node).fontSize) * Math.hypot(matrix.a, matrix.b);
      if (!smallest || px < smallest.px) smallest = { px: px, text: node.textContent.trim() };
    });
  });

  var tables = Array.prototype.map.call(
    document.querySelectorAll('.tsd-typography table'),
    function (table) {
      return { width: table.scrollWidth, shown: table.clientWidth };
    },
  );

  return {
    viewport: viewport,
    pageWidth: document.documentElement.scrollWidth,
    column: columnBox ? Math.round(columnBox.width) : 0,
    overflowing: overflowing.map(function (el) {
      var box = el.getBoundingClientRect();
      return describe(el) + ' spans ' + Math.round(box.left) + '..' + Math.round(box.right);
    }),
    wrappingCode: wrappingCode,
    diagrams: diagrams.length,
    widestDiagram: Math.max.apply(
      null,
      Array.prototype.map
        .call(diagrams, function (div) {
          return Number(div.dataset.naturalWidth) || 0;
        })
        .concat(0),
    ),
    failedDiagrams: failed,
    shrunkDiagrams: shrunk,
    smallestDiagramText: smallest,
    tables: tables,
    brokenImages: Array.prototype.filter
      .call(document.images, function (img) {
        return !img.complete || img.naturalWidth === 0;
      })
      .map(function (img) {
        return img.src;
      }),
    links: Array.prototype.map.call(document.querySelectorAll('a[href]'), function (a) {
      return a.href;
    }),
  };
};
