export declare function mediasoupPackageName(): string;
export declare function mediasoupPackageDir(): string;
