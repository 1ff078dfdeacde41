import { StreamingDetector } from '../src/algorithms/anomaly/detector.js';
import { ContextualDetector } from '../src/algorithms/anomaly/cad.js';
let steps = 0; let ctxSum = 0;
const orig = ContextualDetector.prototype.step;
ContextualDetector.prototype.step = function (this: ContextualDetector, b: number) { steps++; ctxSum += this.contexts; return orig.call(this, b); };
const n = 200, per = 1000;
const mk = (k: number) => { let seed = 1 + k * 7919; return (i: number) => { seed = (seed * 16807) % 2147483647; return 100 + 10 * Math.sin((i + 13 * k) / 50) + (seed / 2147483647) * 5; }; };
for (let k = 0; k < n; k++) { const d = new StreamingDetector({ art: false }); const g = mk(k); for (let i = 0; i < per; i++) d.update(g(i)); }
console.log('cad steps/pt', steps / (n * per), 'mean contexts at step', ctxSum / steps);
