"use client";

import { type RefObject, useEffect, useRef } from "react";

/**
 * A ref holding the latest rendered value, for listeners and callbacks that run between
 * renders and must not be re-created when the value changes. Kept in step by an effect after
 * each render: components never write refs during render.
 */
export function useLatest<T>(value: T): RefObject<T> {
  const ref = useRef(value);
  useEffect(() => {
    ref.current = value;
  }, [value]);
  return ref;
}
