// The selling screens load on first use (their own chunk, precached by the service worker), so
// the app shell stays small.
import type { ScreenFactory } from '../ui/shell';

export const salesScreen: ScreenFactory = async (app, route) => (await import('./screens/sales-screens')).salesScreens(app, route);
