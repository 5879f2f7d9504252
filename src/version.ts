import manifest from "../package.json" with { type: "json" };

export const kvmigVersion: string = manifest.version;
