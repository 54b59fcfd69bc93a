export * from './evaluator.module';
