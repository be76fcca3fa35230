export { HeraldProvider, useHeraldClient, type HeraldProviderProps } from './context.js';
export { useConnectionState, useLiveList, useTopic, type LiveListResult, type UseTopicOptions } from './hooks.js';
export { LiveListStore, type LiveListOptions, type LiveListSnapshot, type LiveListState, type LoadResult } from './live-list-store.js';
export type { ItemKey } from './list-changes.js';
