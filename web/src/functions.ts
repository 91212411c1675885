// Callable functions. `call` gives back the data, or throws the FunctionsError the SDK raises
// (code `functions/<code>`, message, details): see ui/failure.ts for how forms show it.
import { connectFunctionsEmulator, getFunctions, httpsCallable, type Functions } from 'firebase/functions';
import { installAppCheck } from './appCheck';
import { firebase } from './firebase';

let functions: Promise<Functions> | undefined;

/** App Check first, so that the SDK attaches its token to every call. */
function instance(): Promise<Functions> {
  functions ??= (async () => {
    const { app, config } = firebase();
    await installAppCheck(app, config);
    const instance = getFunctions(app);
    if (config.useEmulators !== false) connectFunctionsEmulator(instance, config.functions.host, config.functions.port);
    return instance;
  })();
  return functions;
}

export async function call<Result, Input = unknown>(name: string, data: Input): Promise<Result> {
  return (await httpsCallable<Input, Result>(await instance(), name)(data)).data;
}
