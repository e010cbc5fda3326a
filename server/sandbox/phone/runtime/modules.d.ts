// The component engine's own typings pull in the mini-program's globals; the phone declares just what it uses.
declare module 'j-component' {
  export interface RootComponent {
    readonly dom: HTMLElement;
    readonly instance: Record<string, unknown> & { data: Record<string, unknown> };
    attach(parent: Element): void;
    detach(): void;
    triggerPageLifeTime(name: string, ...args: unknown[]): void;
  }
  export function register(definition: Record<string, unknown>): string;
  export function create(id: string, properties?: Record<string, unknown>): RootComponent;
  export function behavior(definition: Record<string, unknown>): string;
}

declare module 'miniprogram-exparser' {
  interface ExparserEvent {
    readonly __exparserEvent?: true;
  }
  const exparser: {
    Event: {
      create(name: string, detail: unknown, options: Record<string, unknown>): ExparserEvent;
      dispatchEvent(target: unknown, event: ExparserEvent): void;
    };
  };
  export = exparser;
}
