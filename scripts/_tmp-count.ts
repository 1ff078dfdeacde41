import { ContextualDetector, C } from './_tmp-cad.js';
const spike = (i: number): number => (i % 9973 === 9972 ? 80 : 0);
const N=Number(process.argv[2]??200000); const withSpike=process.argv[3]==='spike';
const x = new Float64Array(N); let seed=1;
for (let i=0;i<N;i++){ seed=(seed*16807)%2147483647; x[i]=100+10*Math.sin(i/50)+(seed/2147483647)*5+(withSpike?spike(i):0); }
let lo=Infinity,hi=-Infinity; const bins=new Int32Array(N);
for (let i=0;i<N;i++){const v=x[i]!; if(i<750||!(hi>lo)){if(v<lo)lo=v;if(v>hi)hi=v;} const w=hi>lo?(hi-lo)/7:1; const b=4+Math.floor((v-lo)/w); bins[i]=b<0?0:b>15?15:b;}
const d=new ContextualDetector({bits:4});
const marks=[1e3,1e4,1e5,2e5,1e6];
let last={...C};
for (let i=0;i<N;i++){ d.step(bins[i]!); if(marks.includes(i+1)){ const s=C.steps-last.steps; const r:any={}; for (const k of Object.keys(C)) r[k]=((C as any)[k]-(last as any)[k])/s; console.log(i+1, d.contexts, JSON.stringify(r,(k,v)=>typeof v==='number'?Math.round(v*100)/100:v)); last={...C}; } }
const t0=process.cpuUsage(); const d2=new ContextualDetector({bits:4}); for(let i=0;i<N;i++) d2.step(bins[i]!); const t=process.cpuUsage(t0); console.log('us/pt', (t.user+t.system)/N);
