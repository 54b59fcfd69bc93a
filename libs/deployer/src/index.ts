export * from './deployer.module';
