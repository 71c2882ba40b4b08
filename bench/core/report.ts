/** The outputs of a run: a table for the terminal and the JSON results file. */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchRecord } from './records';

export interface BenchMetadata {
  date: string;
  durationSeconds: number;
  node: string;
  platform: string;
  cpuModel: string;
  cores: number;
  temporalCli: string;
  temporalSdk: string;
  git: { commit: string; dirty: boolean } | null;
  server: {
    kind: string;
    sqlitePragmas: readonly string[];
    dynamicConfig: Readonly<Record<string, unknown>>;
    persistence: string;
  };
  workerSlots: Record<string, number>;
  /** Parameters of each metric (N values, iterations, concurrency, samples). */
  metrics: Record<string, Record<string, unknown>>;
}

export interface BenchResults {
  metadata: BenchMetadata;
  records: BenchRecord[];
}

function formatTarget(record: BenchRecord): string {
  if (record.target === null) return '';
  return `${record.better === 'lower' ? '≤' : '≥'} ${record.target.toFixed(2)}`;
}

function formatPass(record: BenchRecord): string {
  if (record.pass === null) return 'info';
  return record.pass ? 'PASS' : 'MISS';
}

/** A fixed-width table: one row per record. */
export function formatTable(records: readonly BenchRecord[]): string {
  const header = ['metric', 'ours', 'raw Temporal', 'unit', 'ratio', 'target', ''];
  const rows = records.map((record) => [
    record.name,
    record.ours.toFixed(2),
    record.baseline.toFixed(2),
    record.unit,
    record.ratio.toFixed(3),
    formatTarget(record),
    formatPass(record),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        column === 0 || column === 3
          ? cell.padEnd(widths[column]!)
          : cell.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [
    line(header),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.map(line),
  ].join('\n');
}

/**
 * Appends one line per full run to the committed history (JSON lines): when, which commit, the
 * machine, and each record's figures — so a regression shows across commits.
 */
export function appendHistory(file: string, results: BenchResults): void {
  const { metadata } = results;
  const line = {
    date: metadata.date,
    git: metadata.git,
    machine: {
      node: metadata.node,
      platform: metadata.platform,
      cpuModel: metadata.cpuModel,
      cores: metadata.cores,
    },
    durationSeconds: metadata.durationSeconds,
    records: results.records.map(({ name, ours, baseline, ratio, target, unit, pass }) => ({
      name,
      ours,
      baseline,
      ratio,
      target,
      unit,
      pass,
    })),
  };
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

export function writeResults(file: string, results: BenchResults): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
