import type { SearchSpace } from '../space/index.js';

/** The spaces shipped in search-spaces/, loaded on demand (a table or tfjs is only read when used). */
export const builtinSpaces: Record<string, () => Promise<SearchSpace>> = {
  nasbench201: async () => (await import('../../search-spaces/nasbench201/index.js')).nasbench201 as unknown as SearchSpace,
  mobilenet: async () => (await import('../../search-spaces/mobilenet/index.js')).mobilenetSpace as unknown as SearchSpace,
  transformer: async () => (await import('../../search-spaces/transformer/index.js')).transformerSpace as unknown as SearchSpace,
};
