// The attention explorer without Python (notebook 13, `static_explorer`): every map is drawn here, in the browser,
// from the attention weights the page carries (8 bits each, with each row's maximum as a float).
// The maps are notebook 12's: `attention_map` (one head, the mean of heads, or the rollout) and `overlay` (min-max
// scaled, a colour per patch, blended 0.6 over the image). `vitStaticExplorer(id)` wires up one explorer; its
// `map(image, block, head, query)` is what the browser test compares with PyTorch.
function vitStaticExplorer(id) {
  const root = document.getElementById(id);
  const D = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  const [rows, cols] = D.grid, T = D.prefix + rows * cols;
  const bytes = b64 => Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const cache = {};

  // the weights of one image: blocks x heads x T x T floats, from the 8-bit codes and each row's maximum
  function weights(name) {
    if (cache[name]) return cache[name];
    const q = bytes(D.images[name].codes), top = new Float32Array(bytes(D.images[name].row_max).buffer);
    const w = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) w[i] = q[i] / 255 * top[Math.floor(i / T)];
    return (cache[name] = w);
  }

  // one block's T x T attention: one head, or the mean of the heads
  function block(w, l, head) {
    const heads = head === 'mean' ? [...Array(D.heads).keys()] : [head], A = new Float32Array(T * T);
    for (const h of heads) {
      const at = (l * D.heads + h) * T * T;
      for (let i = 0; i < T * T; i++) A[i] += w[at + i] / heads.length;
    }
    return A;
  }

  // attention rollout through block `layer`: 0.5 A + 0.5 I per block, rows normalised, multiplied
  function rollout(w, layer) {
    let R = null;
    for (let l = 0; l <= layer; l++) {
      const A = block(w, l, 'mean');
      for (let i = 0; i < T; i++) {
        let sum = 0;
        for (let j = 0; j < T; j++) sum += (A[i * T + j] = 0.5 * A[i * T + j] + (i === j ? 0.5 : 0));
        for (let j = 0; j < T; j++) A[i * T + j] /= sum;
      }
      if (R === null) { R = A; continue; }
      const P = new Float32Array(T * T);
      for (let i = 0; i < T; i++)
        for (let m = 0; m < T; m++) {
          const a = A[i * T + m];
          for (let j = 0; j < T; j++) P[i * T + j] += a * R[m * T + j];
        }
      R = P;
    }
    return R;
  }

  // the query's attention over the patches, row by row: `attention_map` of notebook 12
  function map(name, layer, head, query) {
    const w = weights(name), A = head === 'rollout' ? rollout(w, layer) : block(w, layer, head);
    const q = query === 'cls' ? 0 : D.prefix + query[0] * cols + query[1];
    return Array.from(A.slice(q * T + D.prefix, q * T + T));
  }

  const $ = cls => root.querySelector('.' + cls);
  const canvas = $('vit-static-canvas'), ctx = canvas.getContext('2d');
  const state = {image: Object.keys(D.images)[0], query: 'cls'};
  const photo = new Image();

  // `overlay`: the image, then each patch's colour (inferno, min-max scaled) at 0.6 opacity
  function draw() {
    const layer = +$('vit-static-block').value, h = $('vit-static-head').value;
    const m = map(state.image, layer, h === 'mean' || h === 'rollout' ? h : +h, state.query);
    const lo = Math.min(...m), span = Math.max(Math.max(...m) - lo, 1e-12), S = D.size;
    ctx.globalAlpha = 1;
    ctx.drawImage(photo, 0, 0, S, S);
    ctx.globalAlpha = D.alpha;
    m.forEach((v, i) => {
      ctx.fillStyle = D.colours[Math.min(255, Math.floor((v - lo) / span * 256))];
      const r = Math.floor(i / cols), c = i % cols;  // each patch a square; pixel x is patch floor(x cols / S),
      const x0 = Math.ceil(c * S / cols), y0 = Math.ceil(r * S / rows);  // as in PyTorch's nearest resize
      ctx.fillRect(x0, y0, Math.ceil((c + 1) * S / cols) - x0, Math.ceil((r + 1) * S / rows) - y0);
    });
    ctx.globalAlpha = 1;
    if (state.query !== 'cls') {  // the query patch, outlined
      ctx.strokeStyle = '#00e5ff';
      ctx.lineWidth = 2;
      ctx.strokeRect(state.query[1] * S / cols + 1, state.query[0] * S / rows + 1, S / cols - 2, S / rows - 2);
    }
    $('vit-static-block-label').textContent = `block ${layer}`;
    $('vit-static-query-label').textContent = state.query === 'cls' ? 'query: the [class] token (click a patch)'
      : `query: patch row ${state.query[0]}, column ${state.query[1]} (click the [class] button for the token)`;
    root.dataset.drawn = `${state.image}|${layer}|${h}|${state.query}`;  // what is on the canvas, for tests
  }

  function show(name) {
    state.image = name;
    $('vit-static-note').textContent = D.images[name].note;
    const top = D.images[name].top.map(([c, p]) => `${c} ${(100 * p).toFixed(0)}%`);
    const outside = D.images[name].outside;  // a photograph of none of the model's classes: it answers all the same
    $('vit-static-top').textContent = (outside ? outside + '; ' : '') + 'the model says: ' + top.join(', ');
    photo.onload = draw;
    photo.src = D.images[name].photo;
  }

  $('vit-static-image').addEventListener('change', e => show(e.target.value));
  $('vit-static-block').addEventListener('input', draw);
  $('vit-static-head').addEventListener('change', draw);
  $('vit-static-cls').addEventListener('click', () => { state.query = 'cls'; draw(); });
  canvas.addEventListener('click', e => {  // the patch under the pointer becomes the query
    const r = canvas.getBoundingClientRect();
    state.query = [Math.min(rows - 1, Math.floor((e.clientY - r.top) / r.height * rows)),
                   Math.min(cols - 1, Math.floor((e.clientX - r.left) / r.width * cols))];
    draw();
  });
  root.vit = {map, draw, show};
  show(state.image);
}
