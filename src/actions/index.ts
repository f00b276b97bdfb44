/** actions: executes a Plan through the client. */
export {};
