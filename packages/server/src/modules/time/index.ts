/** Entity Time (XEP-0202): the server's UTC time and time zone offset. */
import { type Element, NS, x } from '@parley/xmpp';
import { defineModule } from '../../core/module.js';

/** Formats a UTC offset in minutes east of Greenwich as the TZD of XEP-0082: "+HH:MM" or "-HH:MM". */
export function formatTzo(minutesEast: number): string {
  const sign = minutesEast < 0 ? '-' : '+';
  const minutes = Math.abs(minutesEast);
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${sign}${hh}:${mm}`;
}

/** Builds the `<time/>` result for the instant `now`, in the server's local time zone. */
export function timeElement(now: Date): Element {
  // getTimezoneOffset() counts minutes west of UTC, the opposite sign of the TZD.
  const tzo = formatTzo(-now.getTimezoneOffset());
  return x('time', NS.TIME, {}, x('tzo', NS.TIME, {}, tzo), x('utc', NS.TIME, {}, now.toISOString()));
}

export const timeModule = defineModule({
  name: 'time',
  specs: [{ spec: 'XEP-0202', version: '2.0', status: 'complete' }],
  setup(ctx) {
    ctx.server.disco.addHostFeature(NS.TIME);
    ctx.iq('get', 'host', NS.TIME, 'time', () => timeElement(new Date()));
  },
});
