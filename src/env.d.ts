/** Compile-time flag (Vite `define`): true in the demo app and the tests, false in the library build, so test hooks never ship. */
declare const __RCLIP_TEST_HOOKS__: boolean;
