/** Types of scripts/build.mjs, for the test setup that imports it. */
export declare const BUILD_STAMP: string;
export declare function build(): Promise<number>;
export declare function isStale(): boolean;
export declare function typecheck(): number;
