/** The error `promise` rejects with, which must be a `type`; throws (failing the test) when it resolves. */
export async function rejection<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw new Error(`expected a ${type.name}, got: ${String(error)}`, {cause: error});
  }
  throw new Error(`expected a ${type.name}, but it resolved`);
}
