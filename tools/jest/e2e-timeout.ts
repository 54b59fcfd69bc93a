// Jest reads testTimeout only from the root config; each tier sets its own budget here.
jest.setTimeout(180_000);
