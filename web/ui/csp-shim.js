// kubetape-web: lets xterm.js run under a CSP without 'unsafe-inline' styles.
//
// xterm.js styles its DOM in two ways a strict style-src refuses:
//   - <style> elements whose text it sets (theme colours, cell sizes), and
//   - setAttribute("style", ...) on cells with true-colour attributes.
// The CSSOM is not governed by style-src, so this shim, loaded before
// xterm.js, routes both through it: a <style> element's text goes into a
// constructed stylesheet adopted by the document (the element stays empty),
// and a style attribute is set as element.style.cssText.  The <style>
// element itself stays empty: the CSP allows exactly the empty inline style
// (its sha256 is in style-src), which applies nothing.  Only styling
// changes hands; no markup or script is involved, and nothing else on the
// page creates <style> elements.
(function () {
  'use strict';
  const setAttr = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (typeof name === 'string' && name.toLowerCase() === 'style' && this.style) {
      this.style.cssText = String(value);
      return;
    }
    return setAttr.call(this, name, value);
  };

  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (tag, opts) {
    const el = create.call(this, tag, opts);
    if (typeof tag !== 'string' || tag.toLowerCase() !== 'style') return el;
    const doc = this;
    const sheet = new CSSStyleSheet();
    let text = '';
    const setText = (v) => {
      text = v == null ? '' : String(v);
      sheet.replaceSync(text);
    };
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
    Object.defineProperty(el, 'textContent', { get: () => text, set: setText, configurable: true });
    Object.defineProperty(el, 'innerText', { get: () => text, set: setText, configurable: true });
    // rules xterm inserts one by one (sheet.insertRule) land in the same sheet
    Object.defineProperty(el, 'sheet', { get: () => sheet, configurable: true });
    const remove = el.remove;
    el.remove = function () {
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
      return remove.call(this);
    };
    return el;
  };
})();
