/**
 * The run document, version 2 (application/vnd.aura.run+json): the run's projection
 * (aura_nb/trace/projection.py). Mirrors aura_nb/notebook/run.schema.json, which is generated from it;
 * see docs/run-bundle.md. Version 1 documents (saved before) are upgraded on the way in.
 */

export const MIME_TYPE = 'application/vnd.aura.run+json';

export interface ITask {
  id: string;
  goal: string;
  depends_on: string[];
  tools: string[];
  worker: string | null;
  state: string;
  summary: string | null;
  confidence: number | null;
  error: string | null;
  steps: number;
  total_tokens: number;
}

export interface IPlan {
  iteration: number;
  rationale: string;
  edits: number;
  tasks: ITask[];
}

export interface IAgent {
  name: string;
  role: string;
  task_id: string | null;
  status: string;
  turns: number;
  total_input_tokens: number;
  output_tokens: number;
  error: string | null;
}

export interface IStep {
  step: number;
  seq: number;
  kind: 'model' | 'tool';
  agent: string;
  name: string;
  server: string;
  ts: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  total_input_tokens: number;
  latency_s: number;
  start_s: number;
  error: string | null;
  error_type: string | null;
  intercepted: boolean;
  replayed: boolean;
  task_id: string | null;
  fingerprint: string;
  call_id?: string;
  arguments?: Record<string, unknown>;
  result_preview?: string;
  result_truncated?: boolean;
  result_bytes?: number;
  result_ref?: string | null;
  turn?: number;
  text_preview?: string;
  text_truncated?: boolean;
  tool_requests?: string[];
  stop_reason?: string | null;
  retries?: number;
}

/** What the run did and cost, counted once (see aura_nb/trace/projection.py for the definitions). */
export interface ITotals {
  steps: number;
  model_calls: number;
  tool_calls: number;
  submissions: number;
  extractions: number;
  refused_calls: number;
  tool_errors: number;
  model_errors: number;
  failed_steps: number;
  intercepted: number;
  chaos_injections: number;
  input_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  total_input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: number | null;
  step_seconds: number;
}

export interface IStore {
  blob_id: string;
  tool: string;
  call_id: string;
  step: number | null;
  size_bytes: number;
  lines: number;
  shape: string;
  tokens: number;
  tokens_saved: number;
}

export interface IExtraction {
  blob_id: string;
  tool: string;
  call_id: string;
  step: number | null;
  arguments: Record<string, unknown>;
  position: Record<string, unknown>;
  tokens: number;
}

export interface IScratchpad {
  stores: IStore[];
  extractions: IExtraction[];
  bytes_stored: number;
  tokens_saved: number;
}

export interface IPlot {
  title: string;
  service: string | null;
  metric: string | null;
  unit: string | null;
  tool: string;
  step: number | null;
  x: Array<string | number>;
  y: number[];
  downsampled: boolean;
}

export interface IAlert {
  id: string;
  name: string | null;
  service: string | null;
  severity: string | null;
  state: string | null;
  starts_at: string;
  ends_at: string | null;
  summary: string | null;
  step: number | null;
}

export interface IFork {
  parent_run_id: string;
  at_step: number;
  edits: Record<string, unknown>;
}

export interface IRunError {
  agent: string;
  message: string;
  error_type: string;
  where: string;
  recoverable: boolean;
}

export interface IInstruction {
  agent: string;
  text: string;
  at_s: number;
}

export interface IRunDocument {
  version: number;
  run_id: string;
  trace_id: string | null;
  question: string;
  model: string;
  status: string;
  answer: string;
  conclusion: Record<string, unknown> | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  duration_s: number;
  plan: IPlan | null;
  agents: IAgent[];
  totals: ITotals;
  steps: IStep[];
  scratchpad: IScratchpad;
  plots: IPlot[];
  alerts: IAlert[];
  fork: IFork | null;
  errors: IRunError[];
  instructions: IInstruction[];
  findings: IFinding[];
}

/** Whether `value` looks like a version-2 run document this renderer understands. */
export function isRunDocument(value: unknown): value is IRunDocument {
  const doc = value as IRunDocument | null;
  return (
    typeof doc === 'object' &&
    doc !== null &&
    doc.version === 2 &&
    Array.isArray(doc.steps) &&
    typeof doc.totals === 'object'
  );
}

type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A version-1 document (saved by an earlier aura_nb) in the version-2 shape: `usage` became `totals`,
 * and `input_tokens` of steps, agents and the usage (which meant all input) became `total_input_tokens`.
 * Anything else is returned as it is.
 */
export function upgradeDocument(value: unknown): unknown {
  const doc = value as Loose | null;
  if (typeof doc !== 'object' || doc === null || doc.version !== 1 || !Array.isArray(doc.steps)) {
    return value;
  }
  const usage: Loose = doc.usage ?? {};
  const steps: Loose[] = (doc.steps as Loose[]).map(s => ({ ...s, total_input_tokens: s.input_tokens ?? 0 }));
  const handbacks = steps.filter(s => s.kind === 'tool' && String(s.name).startsWith('submit_')).length;
  const totals: Loose = {
    ...usage,
    steps: steps.length,
    tool_calls: (usage.tool_calls ?? 0) - handbacks,
    submissions: handbacks,
    total_input_tokens: usage.input_tokens ?? 0,
    failed_steps: usage.errors ?? 0
  };
  const plan = doc.plan ? { iteration: 1, ...doc.plan, tasks: (doc.plan.tasks as Loose[]).map(t => ({ worker: null, ...t, total_tokens: t.tokens ?? 0 })) } : null;
  const agents = ((doc.agents ?? []) as Loose[]).map(a => ({ ...a, total_input_tokens: a.input_tokens ?? 0 }));
  return { ...doc, version: 2, totals, steps, plan, agents };
}

/** A behaviour finding of a finished run (`Run.findings()`). */
export interface IFinding {
  kind: string;
  severity: 'info' | 'warning' | 'error';
  steps: number[];
  agent: string | null;
  explanation: string;
  suggestion: string;
  cost: Record<string, number>;
}
