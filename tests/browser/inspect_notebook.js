// Run by tests/browser/test_jupyterlab.py in JupyterLab's page once a lesson ran: what a learner
// would see go wrong in the open notebook, cell by cell. Returns {failures, columns, cells}.
async () => {
  const panels = [...document.querySelectorAll('.jp-NotebookPanel')];
  if (panels.length !== 1) return {fatal: `expected one open notebook, found ${panels.length}`};
  const cells = [...panels[0].querySelectorAll('.jp-Notebook .jp-Cell')];
  const canvas = document.createElement('canvas').getContext('2d');
  const failures = [];
  let columns = null;
  const shorten = (text, n = 200) => text.length > n ? text.slice(0, n) + '…' : text;
  // The characters of a text node tree with the node and offset of each, so that a line's
  // characters can be measured where the browser laid them out.
  const charPositions = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const positions = [];
    let text = '';
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) positions.push([node, i]);
      text += node.data;
    }
    return {text, positions};
  };
  const unbreakable = (token, columns) => {
    const bare = token.replace(/^[("'`\[{<]+|[)"'`\]}>,.;:!?]+$/g, '');
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(bare)            // a URL
      || /^arn:/.test(bare)                                  // an ARN
      || bare.includes('/')                                  // a path, a key, a log stream
      || /^[0-9a-f-]{16,}$/i.test(bare)                      // an id, a hash
      || bare.length >= columns;                             // longer than a line anyway
  };
  for (const [index, cell] of cells.entries()) {
    const number = index + 1;
    if (!cell.classList.contains('jp-CodeCell')) continue;
    cell.scrollIntoView({block: 'nearest'});
    const prompt = (cell.querySelector('.jp-InputPrompt')?.textContent || '')
      .trim().replace(/:$/, '');
    const where = {cell: number, prompt};
    if (!/^\[\d+\]$/.test(prompt)) {
      const editor = cell.querySelector('.jp-InputArea-editor');
      const source = (editor?.innerText || '').trim().split('\n')[0];
      failures.push({...where, kind: 'not executed', text: shorten(source, 100)});
    }
    for (const output of cell.querySelectorAll('.jp-OutputArea-output')) {
      const mime = output.getAttribute('data-mime-type') || '';
      const text = output.innerText || '';
      const traceback = /Traceback \(most recent call last\)/.test(text);
      if (mime === 'application/vnd.jupyter.stderr' || traceback) {
        // JupyterLab shows an error output in a stderr box too.
        const kind = traceback ? 'traceback' : 'stderr box';
        failures.push({...where, kind, text: shorten(text.trim())});
        continue;
      }
      if (/^<Figure size \d+x\d+ with \d+ Axes>$/m.test(text)) {
        failures.push({...where, kind: 'chart printed as text', text: shorten(text.trim())});
      }
      for (const img of output.querySelectorAll('img')) {
        try { await img.decode(); } catch (e) { /* naturalWidth says it */ }
        if (!img.naturalWidth) {
          const src = shorten(img.getAttribute('src') || '', 80);
          failures.push({...where, kind: 'chart not rendered', text: src});
        }
      }
      // Plain text (stdout, results) and code blocks in Markdown output: both wrap anywhere.
      for (const pre of output.querySelectorAll('pre')) {
        const style = getComputedStyle(pre);
        const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
        const width = pre.clientWidth - padding;
        canvas.font = style.font;
        const fit = Math.floor(width / canvas.measureText('0').width);
        if (output.classList.contains('jp-RenderedText')) columns = fit;
        const {text: content, positions} = charPositions(pre);
        let start = 0;
        for (const line of content.split('\n')) {
          const lineStart = start;
          start += line.length + 1;
          const expanded = line.replace(/\t/g, ' '.repeat(Number(style.tabSize) || 8));
          if (canvas.measureText(expanded).width <= width + 0.5) continue;
          // Wider than the area: find where the browser breaks it (where a character's top moves).
          const broken = [];
          let top = null;
          const range = document.createRange();
          for (let i = 0; i < line.length; i++) {
            const [node, offset] = positions[lineStart + i];
            range.setStart(node, offset);
            range.setEnd(node, offset + 1);
            const rect = range.getClientRects()[0];
            if (!rect) continue;
            const newLine = top !== null && rect.top > top + 1;
            if (newLine && !/\s/.test(line[i]) && !/\s/.test(line[i - 1])) {
              let from = i - 1, to = i + 1;
              while (from > 0 && !/\s/.test(line[from - 1])) from--;
              while (to < line.length && !/\s/.test(line[to])) to++;
              if (!unbreakable(line.slice(from, to), fit)) {
                broken.push(line.slice(from, i) + '|' + line.slice(i, to));
              }
            }
            if (rect.width > 0 || top === null) top = rect.top;
          }
          if (broken.length) {
            const block = output.classList.contains('jp-RenderedText') ? 'text' : 'code block';
            failures.push({...where, kind: 'word broken', block, columns: fit, length: line.length,
                           broken, text: line});
          }
        }
      }
    }
  }
  return {failures, columns, cells: cells.length};
}
