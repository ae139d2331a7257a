// The admin screens load on first use (their own chunk), so the field app's shell stays small.
import type { ScreenFactory } from '../ui/shell';

export const adminScreen: ScreenFactory = async (app, route) => (await import('./screens/admin-screens')).adminScreens(app, route);
