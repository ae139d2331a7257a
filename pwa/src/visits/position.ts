// The phone's position. A check-in asks for a fresh fix (never a cached one: maximumAge 0, high
// accuracy, a timeout); ordering the day's plan may use one a few minutes old.

export interface Fix {
  latitude: number;
  longitude: number;
  accuracyM: number;
  /** when the fix was taken (the device's clock), ISO */
  fixAt: string;
}

export type FixError = 'unsupported' | 'denied' | 'unavailable' | 'timeout';

export type FixResult = { ok: true; fix: Fix } | { ok: false; error: FixError };

export const CHECKIN_TIMEOUT_MS = 20_000;

export function getPosition(options: PositionOptions, geo: Geolocation | undefined = globalThis.navigator?.geolocation): Promise<FixResult> {
  if (!geo) return Promise.resolve({ ok: false, error: 'unsupported' });
  return new Promise((resolve) => {
    geo.getCurrentPosition(
      (p) =>
        resolve({
          ok: true,
          fix: {
            latitude: p.coords.latitude,
            longitude: p.coords.longitude,
            accuracyM: p.coords.accuracy,
            fixAt: new Date(p.timestamp || Date.now()).toISOString(),
          },
        }),
      (e) => resolve({ ok: false, error: e.code === 1 ? 'denied' : e.code === 3 ? 'timeout' : 'unavailable' }),
      options,
    );
  });
}

/** A fresh, accurate fix for a check-in. */
export function freshFix(timeoutMs = CHECKIN_TIMEOUT_MS): Promise<FixResult> {
  return getPosition({ enableHighAccuracy: true, maximumAge: 0, timeout: timeoutMs });
}

/** A position good enough to order stops (up to five minutes old). */
export function roughFix(): Promise<FixResult> {
  return getPosition({ enableHighAccuracy: false, maximumAge: 5 * 60_000, timeout: 10_000 });
}
