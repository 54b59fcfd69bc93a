export * from '../notify-reviewers/testing/local-receivers';
