/** An event as folded by `evolve`: the stored event's type and data plus when it occurred. */
export type Timed<E> = E & { readonly at: string };
