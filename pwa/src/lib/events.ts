/** A tiny typed event bus: screens listen for data and sync changes. */
export class Emitter<Events extends Record<string, unknown>> {
  private listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(name: K, fn: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(fn as (value: never) => void);
    return () => set.delete(fn as (value: never) => void);
  }

  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const fn of this.listeners.get(name) ?? []) {
      try {
        (fn as (value: Events[K]) => void)(value);
      } catch (error) {
        console.error(error);
      }
    }
  }
}
