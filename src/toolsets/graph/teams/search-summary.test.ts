import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchSummaryToMarkdown } from './search-summary.ts';

test('highlights become emphasis, cuts an ellipsis, other tags and entities plain text', () => {
  assert.equal(searchSummaryToMarkdown('<ddd/>the <c0>budget</c0> review moved to <b>Wednesday</b> &amp; Thursday<ddd/>'), '…the **budget** review moved to Wednesday & Thursday…');
  assert.equal(searchSummaryToMarkdown('<c0> Mark 8 </c0>&#39;s launch&nbsp;&#x1F680;'), "**Mark 8**'s launch 🚀");
  assert.equal(searchSummaryToMarkdown('a <c0></c0> b\n\n c &bogus;'), 'a b c &bogus;');
  assert.equal(searchSummaryToMarkdown('<c0>*x*</c0>'), '**x**', 'no stray asterisks break the emphasis');
});
