/**
 * Figures for the HTML report and the dashboard, as plain data. Agents' outputs are turned into these by
 * `collect-figures.ts`; `html.ts` and the dashboard draw them. Keeping the figure specs separate from drawing
 * means one report can be rendered to HTML, embedded in JSON, or served to the dashboard unchanged.
 */

export interface SeriesSpec {
  label: string;
  /** [time in µs or an x value, y]. */
  points: [number, number][];
  /** Dashed when true (baselines, fits). */
  dashed?: boolean;
  color?: string;
}

export interface MarkerSpec {
  x: number;
  label: string;
  kind?: 'anomaly' | 'fault' | 'deploy' | 'change-point' | 'experiment' | 'info';
}

/** A shaded stretch of the x axis: the swarm's own chaos experiments and load tests on a time series. */
export interface ShadeSpec {
  fromX: number;
  toX: number;
  label: string;
}

export interface BandSpec {
  label: string;
  /** [x, low, high]. */
  points: [number, number, number][];
}

export type Figure =
  | { type: 'timeseries'; id: string; title: string; unit?: string; series: SeriesSpec[]; bands?: BandSpec[]; markers?: MarkerSpec[]; shaded?: ShadeSpec[] }
  | { type: 'xy'; id: string; title: string; xLabel: string; yLabel: string; series: SeriesSpec[]; markers?: MarkerSpec[] }
  | { type: 'graph'; id: string; title: string; edges: { source: string; target: string; label?: string; errorShare?: number }[]; highlight: string[] }
  | { type: 'table'; id: string; title: string; columns: string[]; rows: (string | number)[][] }
  | { type: 'timeline'; id: string; title: string; events: { atUs: number; label: string; kind?: MarkerSpec['kind'] }[] }
  | { type: 'chain'; id: string; title: string; steps: string[] };

export interface FigureSection {
  /** Which report section the figures illustrate: a feedback category or `incident`, `overview`. */
  section: 'overview' | 'incident' | 'defect-patterns' | 'performance-insights' | 'resilience-gaps' | 'learning-updates';
  figures: Figure[];
}
