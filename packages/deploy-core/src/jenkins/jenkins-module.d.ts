// The parts of the npm `jenkins` client (1.x, untyped) that svctl uses.
declare module 'jenkins' {
  class Jenkins {
    constructor(options: {baseUrl: string; crumbIssuer?: boolean; headers?: Record<string, string>; timeout?: number; agent?: import('node:http').Agent});
    job: {
      config(name: string): Promise<string>;
      config(name: string, xml: string): Promise<void>;
      create(name: string, xml: string): Promise<void>;
      build(options: {name: string; parameters: Record<string, string>}): Promise<number>;
      get(options: {name: string; tree?: string; depth?: number}): Promise<Record<string, unknown>>;
    };
    build: {
      get(options: {name: string; number: number; tree?: string}): Promise<Record<string, unknown>>;
      stop(name: string, number: number): Promise<void>;
    };
    queue: {
      item(number: number): Promise<Record<string, unknown>>;
    };
  }
  export = Jenkins;
}
