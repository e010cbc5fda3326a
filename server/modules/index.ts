import { appEntities } from '../app';

/** Every entity of every module, from the app's list of definitions: the CLIs' DataSource is built from this list. */
export const entities = appEntities();
