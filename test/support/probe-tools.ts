import { z } from 'zod';
import { acceptedContent, inputRequired } from '@modelcontextprotocol/server';
import { defineTool, type ToolDefinition } from '../../src/tools/define-tool.ts';
import { ALL_TOOLS } from '../../src/tools/catalog.ts';

/**
 * Tools that exercise the protocol edge (progress, cancellation, input
 * requests) without a backend. Tests hand them to createApp next to the
 * product's own tools; they are never part of the product.
 */
export interface ProbeControl {
  /** Resolves the current probe_wait call(s). */
  release(): void;
  /** Resolves once a probe_wait call has started and reported progress. */
  started: Promise<void>;
  /** How the last probe_wait call ended. */
  outcome: Promise<'released' | 'aborted'>;
}

export function probeTools(): { tools: ToolDefinition[]; control: () => ProbeControl } {
  let control = makeControl();
  function makeControl() {
    let release!: () => void;
    let markStarted!: () => void;
    let settle!: (outcome: 'released' | 'aborted') => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const outcome = new Promise<'released' | 'aborted'>((resolve) => (settle = resolve));
    return { release, released, started, markStarted, outcome, settle };
  }
  const wait = defineTool({
    name: 'probe_wait',
    title: 'Wait until released',
    description: 'Reports progress, then waits until the test releases it or the call is cancelled.',
    toolset: 'server',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    input: z.object({}).strict(),
    async handler(_args, ctx) {
      const current = control;
      ctx.progress('probe started');
      current.markStarted();
      const aborted = new Promise<'aborted'>((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
      const outcome = await Promise.race([current.released.then(() => 'released' as const), aborted]);
      current.settle(outcome);
      return outcome === 'released' ? { content: [{ type: 'text', text: 'released' }] } : { isError: true, content: [{ type: 'text', text: 'cancelled' }], audit: { errorClass: 'cancelled' } };
    },
  });
  const confirm = defineTool({
    name: 'probe_confirm',
    title: 'Ask for confirmation',
    description: 'Asks the client to confirm (input_required), then answers with what was confirmed.',
    toolset: 'server',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    input: z.object({ what: z.string() }).strict(),
    async handler(args, ctx) {
      const schema = z.object({ confirm: z.boolean() });
      const answer = acceptedContent(ctx.inputResponses, 'confirm', schema);
      if (answer === undefined) {
        return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: `Confirm ${args.what}?`, requestedSchema: schema }) } });
      }
      return { content: [{ type: 'text', text: answer.confirm ? `confirmed ${args.what}` : `declined ${args.what}` }] };
    },
  });
  const capabilities = defineTool({
    name: 'probe_capabilities',
    title: 'Report client capabilities',
    description: 'Answers whether the tool context says the client can be asked through elicitation.',
    toolset: 'server',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    input: z.object({}).strict(),
    async handler(_args, ctx) {
      return { content: [{ type: 'text', text: `canElicit=${ctx.canElicit === true}` }] };
    },
  });
  return {
    tools: [...ALL_TOOLS, wait, confirm, capabilities],
    control: () => {
      const current = control;
      return {
        release: () => {
          current.release();
          control = makeControl();
        },
        started: current.started,
        outcome: current.outcome,
      };
    },
  };
}
