import type { SearchSpace } from '../space/index.js';

/** The spaces shipped in search-spaces/, loaded on demand (a table or tfjs is only read when used). */
export const builtinSpaces: Record<string, () => Promise<SearchSpace>> = {
  nasbench201: async () => (await import('../../search-spaces/nasbench201/index.js')).nasbench201Space as unknown as SearchSpace,
};
