(root) => {
    const problems = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth + 1) problems.push(`the page scrolls sideways (${doc.scrollWidth} > ${doc.clientWidth})`);
    // A frame that hides its overflow can still be scrolled sideways (focus, scrollIntoView): the screen then shifts.
    for (const el of document.querySelectorAll('.app, .main, .tabbar, .topbar, .statusbar-row')) {
        if (el.scrollLeft > 0 || el.scrollWidth > el.clientWidth + 1) problems.push(`${el.className} is wider than the screen (${el.scrollWidth} > ${el.clientWidth})`);
    }
    const visible = (el) => {
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    };
    const scope = root ? document.querySelector(root) : document.body;
    if (!scope) return [`${root} is not on the page`];
    // Text cut off: a box whose content is wider than itself while it hides the overflow,
    // unless it says so with an ellipsis on purpose (and then it must carry a title).
    for (const el of scope.querySelectorAll('button, a, .badge, .chip, th, td, select, .topbar-title, label')) {
        if (!visible(el)) continue;
        const s = getComputedStyle(el);
        if (el.closest('.table-wrap') && (el.tagName === 'TD' || el.tagName === 'TH')) continue;
        if (el.tagName === 'SELECT') {
            // the chosen option's text must fit the closed box
            const o = el.options[el.selectedIndex];
            if (!o) continue;
            const c = document.createElement('canvas').getContext('2d');
            c.font = s.font;
            const need = c.measureText(o.text).width + parseFloat(s.paddingLeft) + 18;
            if (need > el.clientWidth + 1) problems.push(`select ${el.dataset.testid || el.id} cuts "${o.text}" (${Math.round(need)} > ${el.clientWidth})`);
            continue;
        }
        if (el.scrollWidth > el.clientWidth + 1 && s.overflowX !== 'visible' && s.textOverflow !== 'ellipsis') {
            problems.push(`${el.tagName.toLowerCase()} ${el.dataset.testid || ''} "${el.textContent.trim().slice(0, 30)}" is cut off`);
        }
    }
    return problems;
}
