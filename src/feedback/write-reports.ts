/** Writes a report in every requested format to a directory; returns the paths written. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeedbackReport } from './report.js';
import { renderMarkdown } from './markdown.js';
import { renderHtmlReport } from './html.js';
import type { FigureSection } from './figures.js';

export type ReportFormat = 'json' | 'md' | 'html';

export function writeReports(report: FeedbackReport, dir: string, formats: ReportFormat[] = ['json', 'md', 'html'], figures: FigureSection[] = []): Record<ReportFormat, string | undefined> {
  mkdirSync(dir, { recursive: true });
  const out: Record<ReportFormat, string | undefined> = { json: undefined, md: undefined, html: undefined };
  if (formats.includes('json')) {
    out.json = join(dir, 'report.json');
    // report.json is exactly the published schema; the figures' data sits beside it for tools that want plots.
    writeFileSync(out.json, JSON.stringify(report, null, 2));
    if (figures.length) writeFileSync(join(dir, 'figures.json'), JSON.stringify(figures));
  }
  if (formats.includes('md')) {
    out.md = join(dir, 'report.md');
    writeFileSync(out.md, renderMarkdown(report));
  }
  if (formats.includes('html')) {
    out.html = join(dir, 'report.html');
    writeFileSync(out.html, renderHtmlReport(report, { figures }));
  }
  return out;
}
