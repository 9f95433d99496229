import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, emailText, stripHtml, tokenizeEmail, tokenizeText } from '../../src/data/index.js';

const plain = [
  'From someone@example.com  Thu Aug 22 12:36:23 2002',
  'Received: from relay.example.org (relay [10.0.0.1])',
  '\tby mx.example.org with ESMTP id ABC123',
  'Subject: Meeting moved',
  '  to Friday',
  'X-Mailing-List: secret-list-marker',
  '',
  'Hi all, the meeting is now at 10 in room B-12.',
].join('\n');

describe('tokenizeEmail', () => {
  it('keeps the (unfolded) subject, drops every other header, lower-cases and marks numbers', () => {
    const tokens = tokenizeEmail(plain);
    expect(tokens).toEqual(['meeting', 'moved', 'to', 'friday', 'hi', 'all', 'the', 'meeting', 'is', 'now', 'at', '<num>', 'in', 'room', 'b', '<num>']);
    expect(tokens).not.toContain('received');
    expect(tokens).not.toContain('secret');
  });

  it('replaces URLs and addresses, keeps $ and ! and inner apostrophes, drops long blobs', () => {
    const t = tokenizeText(`Don't miss: WIN $500!!! Visit http://x.example.com/a?b=1 or mail win@prize.example.net ${'q'.repeat(40)}`);
    expect(t).toEqual(["don't", 'miss', 'win', '$', '<num>', '!', '!', '!', 'visit', '<url>', 'or', 'mail', '<email>']);
  });

  it('decodes base64 and quoted-printable parts and skips attachments', () => {
    const body = Buffer.from('Cheap meds here').toString('base64');
    const msg = [
      'Subject: =?utf-8?B?' + Buffer.from('Grüße').toString('base64') + '?=',
      'Content-Type: multipart/mixed; boundary="XYZ"',
      '',
      'preamble is ignored',
      '--XYZ',
      'Content-Type: text/plain; charset=us-ascii',
      'Content-Transfer-Encoding: base64',
      '',
      body,
      '--XYZ',
      'Content-Type: text/plain',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=E9 soft=',
      'break',
      '--XYZ',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('BINARYSECRET').toString('base64'),
      '--XYZ--',
    ].join('\n');
    expect(tokenizeEmail(msg)).toEqual(['grüße', 'cheap', 'meds', 'here', 'café', 'softbreak']);
  });

  it('strips HTML tags, comments, scripts and styles, keeps link targets and decodes entities', () => {
    const html = '<html><head><style>p{color:red}</style><script>var a=1</script></head><body><!-- hidden --><p>Fish &amp; chips&nbsp;&#33;<a href="http://spam.example/x">click</a></p></body></html>';
    expect(stripHtml(html)).not.toMatch(/color|var a|hidden|<p>/);
    const msg = `Subject: hi\nContent-Type: text/html\n\n${html}`;
    expect(tokenizeEmail(msg)).toEqual(['hi', 'fish', 'chips', '!', '<url>', 'click']);
    // A plain part that is plainly HTML is stripped too.
    expect(emailText(`Subject: x\n\n<html><body><b>bold</b></body></html>`)).not.toContain('<b>');
    expect(tokenizeEmail(`Subject: x\n\nsee <a href="http://a.example/">here</a> now`)).toEqual(['x', 'see', '<url>', 'here', 'now']);
    // Angle brackets in ordinary plain text are left alone.
    expect(emailText(`Subject: x\n\nif a <b and c> d`)).toContain('a <b and c> d');
  });

  it('decodes Q-encoded subjects', () => {
    expect(decodeEncodedWords('=?iso-8859-1?Q?Caf=E9_ouvert?=')).toBe('Café ouvert');
  });
});
