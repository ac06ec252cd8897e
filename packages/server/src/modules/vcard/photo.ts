/** Avatar hashes of vCard-based avatars (XEP-0153). */
import { createHash } from 'node:crypto';
import { type Element, NS } from '@parley/xmpp';

/**
 * Returns the lower-case hex SHA-1 of the image in the vCard's PHOTO/BINVAL, or '' when the
 * vCard has no photo. XEP-0153 section 3.1 hashes the image bytes, not their base64 text,
 * and section 4.6 requires ignoring whitespace in the base64 text.
 */
export function photoHash(vcard: Element): string {
  const binval = vcard.getChild('PHOTO', NS.VCARD)?.getChildText('BINVAL', NS.VCARD);
  if (binval === undefined) return '';
  const image = Buffer.from(binval.replace(/\s+/g, ''), 'base64');
  if (image.length === 0) return '';
  return createHash('sha1').update(image).digest('hex');
}
