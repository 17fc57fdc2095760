export { bootedKernelWithBuiltins as bootedKernel } from '../../scripts/builtins-kernel.ts';
