export * from './local-runtime';
export { InferRequestError, parseInferRequest, tensorMetadata, type OipTensorMetadata } from './oip-protocol';
