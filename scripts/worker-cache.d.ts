export declare function cacheRoot(): string;
export declare function recipeHash(): string;
export declare function cachedWorkerDir(mediasoupVersion: string): string;
export declare function cachedWorkerBin(mediasoupVersion: string): string;
export declare function packagedWorkerBin(mediasoupDir: string): string;
