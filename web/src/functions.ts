// Callable functions. `call` gives back the data, or throws the FunctionsError the SDK raises
// (code `functions/<code>`, message, details): see ui/failure.ts for how forms show it.
import { connectFunctionsEmulator, getFunctions, httpsCallable, type Functions } from 'firebase/functions';
import { firebase } from './firebase';

let functions: Functions | undefined;

function instance(): Functions {
  if (functions) return functions;
  const { app, config } = firebase();
  functions = getFunctions(app);
  if (config.useEmulators !== false) connectFunctionsEmulator(functions, config.functions.host, config.functions.port);
  return functions;
}

export async function call<Result, Input = unknown>(name: string, data: Input): Promise<Result> {
  return (await httpsCallable<Input, Result>(instance(), name)(data)).data;
}
