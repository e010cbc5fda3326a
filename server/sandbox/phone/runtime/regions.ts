// A few regions for the picker (mode="region") of the browser phone: enough to fill an address in the sandbox.
export const REGIONS: ReadonlyArray<readonly [string, string, string]> = [
  ['上海市', '上海市', '浦东新区'],
  ['上海市', '上海市', '徐汇区'],
  ['北京市', '北京市', '朝阳区'],
  ['广东省', '广州市', '天河区'],
  ['广东省', '深圳市', '南山区'],
  ['浙江省', '杭州市', '西湖区'],
  ['江苏省', '南京市', '鼓楼区'],
  ['四川省', '成都市', '武侯区'],
];
