/**
 * The run document, version 2 (application/vnd.aura.run+json): the run's projection
 * (aura_nb/trace/projection.py). Its types are generated from the projection (run.generated.ts, by
 * scripts/generate_run_types.py), like aura_nb/notebook/run.schema.json; see docs/run-bundle.md.
 * Version 1 documents (saved before) are upgraded on the way in.
 */

export const MIME_TYPE = 'application/vnd.aura.run+json';

import {
  AgentView,
  Alert,
  ErrorNote,
  Extraction,
  FindingView,
  ForkView,
  InstructionNote,
  PlanView,
  RunDocument,
  ScratchpadView,
  Series,
  Step,
  Store,
  TaskView,
  Totals
} from './run.generated';

export * from './run.generated';

// The renderer's names for the generated types (run.generated.ts, from the projection).
export type IRunDocument = RunDocument;
export type ITask = TaskView;
export type IPlan = PlanView;
export type IAgent = AgentView;
export type IStep = Step;
export type ITotals = Totals;
export type IStore = Store;
export type IExtraction = Extraction;
export type IScratchpad = ScratchpadView;
export type IPlot = Series;
export type IAlert = Alert;
export type IFork = ForkView;
export type IRunError = ErrorNote;
export type IInstruction = InstructionNote;
export type IFinding = FindingView;

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
 * A version-2 document saved before the projection carried its answer's `headline`, `prose` and `evidence` and
 * each agent's `state`: its answer is shown as written, without a headline or evidence links, and each agent
 * with its status (the document's text/html and the run's log keep the rest).
 */
function withSharedPieces(doc: Loose): Loose {
  if ('prose' in doc) {
    return doc;
  }
  const agents = ((doc.agents ?? []) as Loose[]).map(a => ({ state: a.status, ...a }));
  return { ...doc, headline: [], prose: doc.answer ?? '', evidence: [], agents };
}

/**
 * A document saved by an earlier aura_nb in the current shape. Version 1: `usage` became `totals`, and
 * `input_tokens` of steps, agents and the usage (which meant all input) became `total_input_tokens`; a
 * version 2 without the pieces computed since gets them (`withSharedPieces`). Anything else is returned as it is.
 */
export function upgradeDocument(value: unknown): unknown {
  const doc = value as Loose | null;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.steps)) {
    return value;
  }
  if (doc.version === 2) {
    return withSharedPieces(doc);
  }
  if (doc.version !== 1) {
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
  return withSharedPieces({ ...doc, version: 2, totals, steps, plan, agents });
}
