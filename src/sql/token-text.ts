/**
 * A statement inside a utility statement (`DECLARE c CURSOR FOR <select>`, `COPY (<select>) TO
 * STDOUT`), planned like any other. The utility parser sees only tokens, so the inner statement's
 * text is written back from them: the same tokens, spaced where the original had space.
 */
import { AllotError, SqlState } from '../errors.js';
import type { TimeOutput } from './tables/columns.js';
import { ParamSlots } from './expr.js';
import { rewriteForParser, tokenize, type Token } from './lexer.js';
import { planStatement, type QueryPlan } from './plan/index.js';
import { checkStatementShape, parseStatement } from './prepare.js';

/** The SQL text of `tokens`: strings and quoted names quoted again, comments gone. */
export function textOfTokens(tokens: readonly Token[]): string {
  let out = '';
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (k > 0 && tokens[k - 1]!.end !== t.start) out += ' ';
    switch (t.kind) {
      case 'word':
      case 'number':
      case 'op':
        out += t.text;
        break;
      case 'quoted':
        out += `"${t.text.replaceAll('"', '""')}"`;
        break;
      case 'string':
        out += `'${t.text.replaceAll("'", "''")}'`;
        break;
      case 'param':
        out += `$${t.index}`;
        break;
    }
  }
  return out;
}

/** Plans SQL text that must be a query (a SELECT); `what` names the statement holding it, for errors. */
export function planQueryText(text: string, what: string, times: TimeOutput): QueryPlan {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new AllotError(SqlState.syntaxError, `syntax error: ${what} needs a query`);
  if (tokens.some((t) => t.kind === 'param'))
    throw new AllotError(SqlState.featureNotSupported, `parameters in the query of ${what} are not supported by allot`, {
      hint: 'Write the values into the query text.',
    });
  checkStatementShape(tokens);
  const plan = planStatement(parseStatement(rewriteForParser(text, tokens) ?? text), new ParamSlots([], new Map(), [], times), times);
  if (plan.kind !== 'query') throw new AllotError(SqlState.syntaxError, `syntax error: ${what} needs a SELECT`);
  return plan;
}
