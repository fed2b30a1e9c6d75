/**
 * The run document, version 1 (application/vnd.aura.run+json).
 * Mirrors aura_nb/notebook/run-v1.schema.json; see docs/run-bundle.md.
 */

export const MIME_TYPE = 'application/vnd.aura.run+json';

export interface ITask {
  id: string;
  goal: string;
  depends_on: string[];
  tools: string[];
  state: string;
  summary: string | null;
  confidence: number | null;
  error: string | null;
  steps: number;
  tokens: number;
}

export interface IPlan {
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
  input_tokens: number;
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
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  latency_s: number;
  start_s: number;
  error: string | null;
  error_type: string | null;
  intercepted: boolean;
  replayed: boolean;
  task_id: string | null;
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

export interface IUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  total_tokens: number;
  cost_usd: number | null;
  model_calls: number;
  tool_calls: number;
  errors: number;
  intercepted: number;
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
  steps: IStep[];
  usage: IUsage;
  scratchpad: IScratchpad;
  plots: IPlot[];
  alerts: IAlert[];
  fork: IFork | null;
  errors: IRunError[];
  instructions: IInstruction[];
  findings: IFinding[];
}

/** Whether `value` looks like a version-1 run document this renderer understands. */
export function isRunDocument(value: unknown): value is IRunDocument {
  const doc = value as IRunDocument | null;
  return (
    typeof doc === 'object' &&
    doc !== null &&
    doc.version === 1 &&
    Array.isArray(doc.steps) &&
    typeof doc.usage === 'object'
  );
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
